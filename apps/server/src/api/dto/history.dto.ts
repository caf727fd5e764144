import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Min, ValidateBy, type ValidationOptions } from 'class-validator';

/** A history point in a JSON body: a non-negative integer version, or an ISO-8601 time string. */
function IsHistoryPoint(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHistoryPoint',
      validator: {
        validate: (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) || (typeof value === 'string' && value.length > 0),
        defaultMessage: () => '$property must be a version or an ISO-8601 time',
      },
    },
    options,
  );
}

/** Body of POST /api/notebooks/:id/restore. */
export class RestoreNotebookDto {
  @ApiProperty({ oneOf: [{ type: 'integer' }, { type: 'string', format: 'date-time' }], description: 'the version or ISO time to restore' })
  @IsHistoryPoint()
  at!: number | string;

  @ApiPropertyOptional({ description: 'the notebook version the restore was decided against; 409 when stale' })
  @IsOptional()
  @IsInt()
  @Min(0)
  expected_version?: number;
}

/** Body of POST /api/notebooks/:id/fork. */
export class ForkNotebookDto {
  @ApiPropertyOptional({ oneOf: [{ type: 'integer' }, { type: 'string', format: 'date-time' }], description: 'the version or ISO time to fork at; now when omitted' })
  @IsOptional()
  @IsHistoryPoint()
  at?: number | string;

  @ApiPropertyOptional({ example: 'analysis-fork.ipynb', description: 'name of the new notebook; `<name>-fork.ipynb` when omitted' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  name?: string;
}
