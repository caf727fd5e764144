import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Length, Min, ValidateBy, type ValidationOptions } from 'class-validator';

/** nbformat's multiline string: one string, or a list of lines. */
function IsMultiline(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMultiline',
      validator: {
        validate: (value: unknown) => typeof value === 'string' || (Array.isArray(value) && value.every((line) => typeof line === 'string')),
        defaultMessage: () => '$property must be a string or an array of strings',
      },
    },
    options,
  );
}

/** Body of POST /api/notebooks. */
export class CreateNotebookDto {
  @ApiProperty({ example: 'analysis.ipynb' })
  @IsString()
  @Length(1, 255)
  name!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'nbformat v4 notebook JSON; empty notebook when omitted' })
  @IsOptional()
  @IsObject()
  content?: Record<string, unknown>;
}

/** Optional optimistic-concurrency guard of every write. */
class VersionedWriteDto {
  @ApiPropertyOptional({ description: 'the notebook version the change was made against; 409 when stale' })
  @IsOptional()
  @IsInt()
  @Min(0)
  expected_version?: number;
}

/** Body of POST /api/notebooks/:id/cells. */
export class InsertCellDto extends VersionedWriteDto {
  @ApiProperty({ enum: ['code', 'markdown', 'raw'] })
  @IsIn(['code', 'markdown', 'raw'])
  cell_type!: 'code' | 'markdown' | 'raw';

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  @IsOptional()
  @IsMultiline()
  source?: string | string[];

  @ApiPropertyOptional({ description: 'position to insert at (0 = first); the end when omitted' })
  @IsOptional()
  @IsInt()
  @Min(0)
  index?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

/** Body of PATCH /api/notebooks/:id/cells/:cell_id. */
export class UpdateCellDto extends VersionedWriteDto {
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  @IsOptional()
  @IsMultiline()
  source?: string | string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: ['code', 'markdown', 'raw'] })
  @IsOptional()
  @IsIn(['code', 'markdown', 'raw'])
  cell_type?: 'code' | 'markdown' | 'raw';
}

/** Body of POST /api/notebooks/:id/cells/:cell_id/move. */
export class MoveCellDto extends VersionedWriteDto {
  @ApiProperty({ description: 'the index the cell ends up at' })
  @IsInt()
  @Min(0)
  index!: number;
}

/** Body of DELETE /api/notebooks/:id/cells/:cell_id (optional). */
export class DeleteCellDto extends VersionedWriteDto {}

/** Body of PUT /api/notebooks/:id/members/:user. */
export class SetMemberDto {
  @ApiProperty({ enum: ['editor', 'viewer'] })
  @IsIn(['editor', 'viewer'])
  role!: 'editor' | 'viewer';
}
