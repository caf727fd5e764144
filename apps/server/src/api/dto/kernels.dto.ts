import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, MaxLength, Min } from 'class-validator';
import { MAX_CODE_LENGTH } from '../execution-requests.js';

/** Body of POST /api/notebooks/:id/kernel and POST /api/kernels. */
export class StartKernelDto {
  @ApiPropertyOptional({ example: 'python3', description: 'kernelspec name; the default kernelspec when omitted' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  name?: string;
}

/** Body of POST /api/notebooks/:id/execute: scratch code outside any cell. */
export class ExecuteCodeDto {
  @ApiProperty({ example: 'print(1 + 1)' })
  @IsString()
  @MaxLength(MAX_CODE_LENGTH)
  code!: string;
}

/** Body of POST /api/notebooks/:id/input: the answer to a pending input(). */
export class InputReplyDto {
  @ApiProperty({ example: 'alice' })
  @IsString()
  @MaxLength(1024 * 1024)
  value!: string;
}

/** Body of POST /api/notebooks/:id/kernel/complete (complete_request). */
export class CompleteDto {
  @ApiProperty({ example: 'import o' })
  @IsString()
  @MaxLength(MAX_CODE_LENGTH)
  code!: string;

  @ApiProperty({ example: 8 })
  @IsInt()
  @Min(0)
  cursor_pos!: number;
}

/** Body of POST /api/notebooks/:id/kernel/inspect (inspect_request). */
export class InspectDto extends CompleteDto {
  @ApiPropertyOptional({ enum: [0, 1], default: 0 })
  @IsOptional()
  @IsIn([0, 1])
  detail_level?: 0 | 1;
}

/** Body of POST /api/notebooks/:id/kernel/history (history_request). */
export class HistoryDto {
  @ApiPropertyOptional({ enum: ['tail', 'range', 'search'], default: 'tail' })
  @IsOptional()
  @IsIn(['tail', 'range', 'search'])
  hist_access_type?: 'tail' | 'range' | 'search';

  @ApiPropertyOptional({ default: 10 })
  @IsOptional()
  @IsInt()
  @Min(1)
  n?: number;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  output?: boolean;

  @ApiPropertyOptional({ description: 'glob pattern for hist_access_type search' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  pattern?: string;
}
